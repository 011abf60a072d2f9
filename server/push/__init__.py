"""Web Push: device subscriptions, durable deliveries and the sender that sends them."""
