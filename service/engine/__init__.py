"""The only package that imports SpiffWorkflow. Pure: no Flask, no database."""

from service.engine.timers import install_clock

# Before any workflow runs: the engine's timers read the service clock (see timers.py).
install_clock()
