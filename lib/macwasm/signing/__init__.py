"""Entitlements and code-signature facts, from every form a release engineer holds them in."""
