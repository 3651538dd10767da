"""HTTP and WebSocket routes of the notification service."""
