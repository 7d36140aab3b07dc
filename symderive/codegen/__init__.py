"""Code generation: kernel spec (plain data) -> Jinja templates -> an importable generated package."""
