"""arielml: run int8 TinyML models on every core of a multi-core microcontroller."""

__version__ = "0.1.0"
