"""gunicorn settings for `make bench`: none. The production gunicorn.conf.py (loaded from the working
directory by default) writes an access log line per request and recycles workers (max_requests), which
would be measured too and would hide any growth of the workers' memory; bench/load.py passes the
workers, threads and address on the command line instead."""
