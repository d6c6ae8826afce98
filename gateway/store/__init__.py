"""The car's memory: reads, hotlists, alerts, users, holds, devices, access record."""
