#!/usr/bin/env python3
"""Writes the TensorBoard event files the reader's tests read, with the real writers:

  OUT/old-style/   torch.utils.tensorboard SummaryWriter.add_scalar (simple_value), tag "loss"
  OUT/new-style/   SummaryWriter.add_scalar(new_style=True): a scalar tensor with the
                   "scalars" plugin's metadata, tag "loss"
  OUT/tensor-f64/  tensorboard's own summary.v2-style proto built by tensorboard.compat
                   (a DT_DOUBLE tensor in tensor_content), tag "loss"

Each has steps 1..20 with loss = 5 - 0.1 * step (so a test knows every value), plus a
second tag "lr" that the reader must ignore.
Needs: pip install torch tensorboard
Usage: make-tensorboard-fixtures.py OUT
"""
import os, sys

import numpy as np
from torch.utils.tensorboard import SummaryWriter
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, types_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

out = sys.argv[1]


def loss(step):
    return 5.0 - 0.1 * step


for style, new in (("old-style", False), ("new-style", True)):
    w = SummaryWriter(os.path.join(out, style))
    for step in range(1, 21):
        w.add_scalar("loss", loss(step), step, new_style=new)
        w.add_scalar("lr", 0.01, step, new_style=new)
    w.close()

w = EventFileWriter(os.path.join(out, "tensor-f64"))
for step in range(1, 21):
    for tag, value in (("loss", loss(step)), ("lr", 0.01)):
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_DOUBLE,
                                        tensor_content=np.array(value, dtype="<f8").tobytes())
        meta = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=meta)])
        w.add_event(event_pb2.Event(wall_time=1.0e9 + step, step=step, summary=summary))
w.close()
