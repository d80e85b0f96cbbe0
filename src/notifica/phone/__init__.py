"""The phone engine: what the app and the Exposure Notification service do on a phone (layer 3)."""
