"""Importing company lists: the CSV and XLSX readers with the limits a file is measured
against, and the importer (one transaction per file, an undoable batch)."""
