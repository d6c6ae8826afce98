"""Who may use the car's ALPR: users, roles, training, sign-in and lockout.

Policy 462.3(d),(e) and the CJIS account rules live here, below the web UI,
so that the CLI and any other front end enforce the same rules.
"""
