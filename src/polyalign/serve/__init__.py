"""An OpenAI-compatible HTTP server over polyalign's backends (``polyalign serve``).

So that an aligned or proxy-tuned model can be used by any tool that speaks the OpenAI API, and so
that ``polyalign judge`` is tested against a real server. Standard library only (``http.server``):
one worker thread owns the model (`engine`), HTTP threads parse and answer (`server`), the wire
format lives in `protocol`, prompt rendering and token counts in `model`, the run loop in `app`.
"""

from polyalign.serve.app import run_server, start_server, stop_server
from polyalign.serve.engine import Closed, Engine, QueueFull
from polyalign.serve.model import ServedModel, served_options
from polyalign.serve.server import ModelServer, ServerLimits

__all__ = ["run_server", "start_server", "stop_server", "Engine", "QueueFull", "Closed", "ServedModel",
           "served_options", "ModelServer", "ServerLimits"]
