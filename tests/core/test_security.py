"""Security headers, host checks, body size, error pages without tracebacks."""
import pytest

from config import DevelopmentConfig, ProductionConfig
from marketplace import create_app


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/does-not-exist"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in csp, (path, csp)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_production_sends_hsts_and_redirects_plain_http(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "prod-secret-for-test")
    app = create_app(ProductionConfig)
    app.config["TRUSTED_HOSTS"] = ["market.example.com"]
    client = app.test_client()
    plain = client.get("/", base_url="http://market.example.com")
    assert plain.status_code in (301, 302) and plain.headers["Location"].startswith("https://")
    secure = client.get("/healthz", base_url="https://market.example.com")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    import pytest
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_untrusted_host_is_refused():
    app = create_app(DevelopmentConfig)
    client = app.test_client()
    assert client.get("/", base_url="http://127.0.0.1").status_code == 200
    assert client.get("/", base_url="http://evil.example.com").status_code == 400


def test_oversized_body_gets_413(client, app):
    response = client.post("/login", data={"email": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_unexpected_error_shows_a_friendly_500_without_traceback():
    app = create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": "sqlite://", "TRUSTED_HOSTS": None})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "Traceback" not in body and "secret internals" not in body


@pytest.mark.no_db_transaction
def test_healthz_reports_unreachable_database():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 1}}, "TRUSTED_HOSTS": None})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error"}


def test_bootstrap_is_served_locally(client):
    page = client.get("/").get_data(as_text=True)
    assert "cdn.jsdelivr.net" not in page and "/bootstrap/static/" in page
    css = client.get("/bootstrap/static/css/bootstrap.min.css")
    assert css.status_code == 200 and len(css.data) > 10_000
