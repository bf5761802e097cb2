"""Voice notes: what is accepted, how it is cleaned and stored, and how it is served.

Why AAC in MP4 (.m4a) for every stored note: Chrome for Android records WebM/Opus and
Safari on iPhone records MP4/AAC; Safari plays WebM or Ogg Opus only on recent iOS, while
AAC in MP4 plays on every Safari and every Chrome. Keeping Opus (in MP4 or CAF) would save a
little space but needs iOS 17+ and a second test matrix; so every note, whatever it was
recorded as, is decoded by PyAV (FFmpeg) and encoded again as AAC-LC, mono, 16 kHz at
24 kbit/s (speech quality: a minute is about 180 KB). Re-encoding into a fresh container is
also what strips the metadata: nothing of the uploaded file but its decoded sound is kept
(no tags, no cover picture, no trailing bytes of a polyglot), and the muxer runs bit-exact,
so it writes no encoder tag either.
"""
import hashlib
import io
import logging

import av
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import ApiError
from ..extensions import db
from ..models import Attachment

MAX_VOICE_SECONDS = 60
TOLERANCE_SECONDS = 2  # a recorder stopped at 60 s may write a few frames more
# A minute from a phone is 180 KB as Opus and about 1 MB as Safari's AAC; 3 MB leaves room
# and keeps a decoder busy for a moment at most.
MAX_VOICE_BYTES = 3 * 1024 * 1024
# Containers a browser's recorder (or a phone's voice memo) writes; anything else (a picture,
# a video, a document) is refused before a decoder looks at it.
CONTAINERS = {"matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", "ogg", "wav", "mp3"}
OUT_RATE = 16000
OUT_BITRATE = 24000
MIME = "audio/mp4"
FIELD = "voice"
log = logging.getLogger(__name__)


def _refuse(status, message):
    raise ApiError(status, message, fields={FIELD: message})


def _not_audio():
    _refuse(415, _l("Only a voice recording can be attached as a voice note."))


def _too_long():
    _refuse(422, _l("A voice note may be at most %(n)s seconds long.", n=MAX_VOICE_SECONDS))


def clean_voice(data: bytes) -> tuple[bytes, int]:
    """Check a voice note by its content; return (AAC in MP4 without metadata, duration in ms)."""
    if not data:
        _refuse(422, _l("The voice note is empty."))
    if len(data) > MAX_VOICE_BYTES:
        _refuse(413, _l("A voice note may be at most %(mb)s MB.", mb=MAX_VOICE_BYTES // (1024 * 1024)))
    out = io.BytesIO()
    samples = 0
    limit = (MAX_VOICE_SECONDS + TOLERANCE_SECONDS) * OUT_RATE
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as src:
            if src.format.name not in CONTAINERS or not src.streams.audio or src.streams.video:
                _not_audio()
            stream = src.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="mono", rate=OUT_RATE)
            with av.open(out, mode="w", format="mp4",
                         options={"fflags": "+bitexact"}) as dst:
                aac = dst.add_stream("aac", rate=OUT_RATE, layout="mono")
                aac.bit_rate = OUT_BITRATE
                aac.codec_context.flags |= av.codec.context.Flags.bitexact

                def encode(frames):
                    nonlocal samples
                    for frame in frames:
                        frame.pts = samples
                        samples += frame.samples
                        if samples > limit:
                            _too_long()
                        for packet in aac.encode(frame):
                            dst.mux(packet)

                for frame in src.decode(stream):
                    encode(resampler.resample(frame))
                encode(resampler.resample(None))
                for packet in aac.encode(None):
                    dst.mux(packet)
    except ApiError:
        raise
    except (av.FFmpegError, ValueError, TypeError, OSError, EOFError) as err:
        log.info("voice note refused: %s", err)
        _not_audio()
    if samples < OUT_RATE // 10:  # less than a tenth of a second: no sound at all
        _not_audio()
    return out.getvalue(), samples * 1000 // OUT_RATE


def save_voice(user, data: bytes) -> Attachment:
    """Clean and store one voice note (by the hash of what is stored, like photos)."""
    from .services import storage_path, store_files

    audio, duration_ms = clean_voice(data)
    digest = hashlib.sha256(audio).hexdigest()
    user_id = user.id if user is not None else None
    if user_id is not None:
        row = db.session.scalar(select(Attachment).where(
            Attachment.sha256 == digest, Attachment.uploaded_by_id == user_id))
        if row is not None:
            return row
    row = Attachment(sha256=digest, mime=MIME, size=len(audio), width=0, height=0,
                     duration_ms=duration_ms, uploaded_by_id=user_id)
    store_files(FIELD, "voice note", (storage_path(row), audio))
    db.session.add(row)
    db.session.flush()
    return row


def voice_from_request(user, upload):
    """The write's voice note (an uploaded file), cleaned and stored; None when there is none."""
    if upload is None or not upload.filename:
        return None
    return save_voice(user, upload.read(MAX_VOICE_BYTES + 1))


def load_voices(rows) -> None:
    """Give rows (updates, deliveries, issues, comments) their voice notes in one query, so a
    page with many of them costs one statement, not one per row."""
    from sqlalchemy.orm.attributes import set_committed_value

    rows = [r for r in rows if r is not None and "voice" not in r.__dict__]
    ids = {r.voice_id for r in rows if r.voice_id}
    found = {a.id: a for a in db.session.scalars(select(Attachment).where(Attachment.id.in_(ids)))} \
        if ids else {}
    for row in rows:
        set_committed_value(row, "voice", found.get(row.voice_id))
