"""Uploaded files: specialists' photos and businesses' logos, attachments on messages and deliveries."""
