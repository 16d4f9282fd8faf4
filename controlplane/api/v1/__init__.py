"""Generated protobuf modules (proto/generate.py); do not edit."""
