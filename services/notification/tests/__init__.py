"""Tests of the notification service."""
