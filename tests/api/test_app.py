import sqlalchemy as sa

from server.extensions import db


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_areas_listed(client, areas):
    response = client.get("/api/v1/areas")
    assert response.status_code == 200
    body = response.get_json()
    assert len(body) == 33
    hackney = next(a for a in body if a["slug"] == "hackney")
    assert hackney["region"] == "east-london"
    assert hackney["name"] == "Hackney"


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/areas" in response.get_json()["paths"]


def test_durability_settings(app):
    """A report acknowledged must survive power loss on either engine."""
    def scalar(sql):
        return db.session.execute(sa.text(sql)).scalar()

    if db.engine.dialect.name == "postgresql":
        assert scalar("SHOW synchronous_commit") == "on"
        assert scalar("SHOW fsync") == "on"
        return
    assert scalar("PRAGMA journal_mode") == "wal"
    assert scalar("PRAGMA synchronous") == 2  # FULL
    assert scalar("PRAGMA foreign_keys") == 1


def test_migrations_match_models(app):
    """The migration that make run applies builds exactly the tables the models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []
