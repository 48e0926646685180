"""The only package that imports SpiffWorkflow. Pure: no Flask, no database."""

from service.engine.bounds import install_bounds
from service.engine.timers import install_clock

# Before any workflow runs: the engine's timers read the service clock (see timers.py), and loops and
# multi-instance activities refuse to grow past the limits (see bounds.py).
install_clock()
install_bounds()
