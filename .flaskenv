# Read by the `flask` command only (python-dotenv); variables already in the environment win.
# gunicorn does not read this file: without APP_ENV it runs in production and refuses to start
# without SECRET_KEY.
FLASK_APP=wsgi
APP_ENV=development
