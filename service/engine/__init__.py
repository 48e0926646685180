"""The only package that imports SpiffWorkflow. Pure: no Flask, no database."""
