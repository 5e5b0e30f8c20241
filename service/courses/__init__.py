"""Courses: rosters, sections, assignments with deadlines, extensions, late days and grades."""
