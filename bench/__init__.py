"""``make bench``: the service side by side with what a user would otherwise run.

Everything runs on loopback in this one machine and is compared within one run
(ratios, never absolute numbers). See the README (Performance).
"""
