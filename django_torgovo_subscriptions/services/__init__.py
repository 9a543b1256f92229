"""Domain services: the rules of the package, without HTTP."""
