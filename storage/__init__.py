"""Persistence: SQLAlchemy 2 async models, the session factory and schema migrations.

Knows SQLAlchemy, not any chat channel; field, region and status codes are plain strings here.
"""
