// Replaced by the MQTT layer.
