"""The registry of layer kinds (see registry.py); kinds.py imports every module that registers."""
