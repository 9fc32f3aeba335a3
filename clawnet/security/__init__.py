"""Security services: secrets at rest, passwords, permissions, sanitizing, rate limits."""
