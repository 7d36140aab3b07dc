"""Jinja templates of the generated packages, shipped inside symderive as ``symderive._templates``."""
