"""Outages made on purpose, for the tests of what the portal does then."""

import contextlib


@contextlib.contextmanager
def database_unreachable():
    """A real outage: inside the block, every new connection goes to a database not there.

    Needs a transactional test (`django_db(transaction=True)`): the connection is closed.
    """
    from django.db import connection

    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/careportal.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


def database_url() -> str:
    """The test database as a DATABASE_URL, for the processes a test starts."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
