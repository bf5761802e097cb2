"""Real recordings for voice-note tests, made with PyAV: a sine tone as a browser records it."""
import io
import math
import struct

import av

RATE = 48000
FRAME = 960  # 20 ms
_TONE = b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * 400 * i / RATE)))
                 for i in range(FRAME))  # 400 Hz: a whole number of periods per frame


def tone(seconds: float = 2.0, container: str = "webm", codec: str = "libopus",
         tags: dict | None = None, bit_rate: int = 24000) -> bytes:
    """A mono 400 Hz tone of that length: WebM/Opus as Chrome records it, or MP4/AAC as Safari
    does (container "mp4", codec "aac"); tags are written into the container's metadata."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as dst:
        dst.metadata.update(tags or {})
        stream = dst.add_stream(codec, rate=RATE, layout="mono")
        stream.bit_rate = bit_rate
        pts = 0
        for _ in range(int(seconds * RATE) // FRAME):
            frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME)
            frame.planes[0].update(_TONE)
            frame.sample_rate, frame.pts = RATE, pts
            pts += FRAME
            for packet in stream.encode(frame):
                dst.mux(packet)
        for packet in stream.encode(None):
            dst.mux(packet)
    return out.getvalue()


def probe(data: bytes) -> dict:
    """What a player sees in a file: container, codec, channels, rate, duration and every tag."""
    with av.open(io.BytesIO(data)) as src:
        stream = src.streams.audio[0]
        samples = sum(f.samples for f in src.decode(stream))
        return {"container": src.format.name, "codec": stream.codec_context.name,
                "channels": stream.codec_context.channels, "rate": stream.sample_rate,
                "seconds": samples / stream.sample_rate,
                "tags": {**src.metadata, **stream.metadata}}
