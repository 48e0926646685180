"""The attacker's payloads, in one place: every security test draws its inputs from here.

Each finding of issue #17 has its own list below; the checks run after review use other payloads, so
each list is a class of input, not one example.
"""

from __future__ import annotations

# --- 1. Script injection (markup and script in every free-text field) ---

# --- 2. Audit tampering ---

# --- 3. Personal identity numbers ---

# --- 4. Open redirects ---

# --- 5. Denial of service (scripts, patterns, bodies) ---

# --- 6. Sessions and secrets ---

# --- 7. Access log ---
