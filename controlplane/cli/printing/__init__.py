"""How `cox` shows objects: kubectl's tables, describe pages and output formats.

Pure functions of API objects (and the time now), so each rule is tested
without a server.
"""
