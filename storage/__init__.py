"""Persistence: SQLAlchemy 2 async models, the session factory and schema migrations.

Knows SQLAlchemy, not Telegram; field, region and status codes are plain strings here.
"""
