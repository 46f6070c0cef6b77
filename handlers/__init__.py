"""Telegram-facing adapters: parse an update, run one unit of work, render, reply.

``buddybot.app`` wires them into the Application, in order."""
