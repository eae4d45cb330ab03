"""Volunteer allocation (planning model, section 2): rules A1-A6, objective terms 1-6."""
