"""Sending the car's reads to the regional server, and fetching its hotlists.

`stage.UploadStage` sends every stored read at once and drains a backlog in
compressed batches; `hotlist_sync.HotlistSyncStage` keeps the lists fresh;
`status.upload_status()` answers the devices page. The database is the only
state: a crash or a power cut resumes from `Read.upload_state`.
"""
