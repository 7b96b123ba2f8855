"""Turns read models into files people take away: CSV, XLSX and PDF."""
