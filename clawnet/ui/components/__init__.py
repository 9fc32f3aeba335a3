"""Reusable view functions: layout, form fields, badges, cards."""
