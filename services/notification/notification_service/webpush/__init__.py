"""Web push: browser PushSubscriptions, VAPID keys and the ``webpush`` delivery channel."""
