"""Compliance: the audit log, a customer's data on request (export, erasure), retention."""
