"""APScheduler drives BPMN timers and periodic work. jobs.py: plain functions; setup.py: registration;
leader.py: which process runs the scheduler when several share one PostgreSQL."""
