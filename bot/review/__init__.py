"""The coordinators' review dashboard, its plain-Python half (no Rasa, no Sanic):
users, passwords and sessions (auth.py), the read model of the tracker store
(read_model.py), the dashboard's queries (queries.py), exports (exports.py),
and its own tables (models.py, migrated by Alembic from migrations/).

The Sanic blueprint that serves it at /review is bot/web/review.py.
"""
