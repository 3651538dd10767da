"""Generated from proto/ by ``python -m cp_tools.protogen``; do not edit."""
