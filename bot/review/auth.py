"""Users, passwords and sessions of the review dashboard.

- Passwords: Argon2id (argon2-cffi's defaults), never stored or logged in clear.
- Sessions: the cookie holds a random token signed with REVIEW_SECRET_KEY
  (itsdangerous, with its age checked); the database keeps the token's SHA-256,
  the user, a CSRF token and the expiry. Logging out deletes the row, so a kept
  copy of the cookie no longer works; changing a password ends all the user's sessions.
- Rate limit, counted before the password is checked: every attempt is recorded
  as a failure in the same transaction that counts the earlier ones (a success
  then takes it back), so parallel tries cannot slip past the count. After 5
  failures for one name from one address within 15 minutes, or 20 from one
  address (many names tried; an office behind one address keeps working), further
  attempts from there get "too many" until the window passes. A name failing from
  many addresses is not locked, so nobody can lock its owner out: each attempt on
  it waits longer instead (sign_in_delay: 1 s after 5 failures, doubling, at most
  30 s) before its password is checked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import FrozenSet, Iterable, List, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, insert, select, update

from bot.review.db import ReviewDB
from bot.review.models import ROLES, FailedLogin, LoginSession, RevokedSlackMentor, User, UserCohort

MAX_FAILURES = 5  # per user name and address
MAX_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW_S = 15 * 60
SLOW_DOWN_AFTER = 5  # failures for a name, from anywhere, before its attempts wait
MAX_DELAY_S = 30.0
SESSION_HOURS = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
COHORT = re.compile(r"^[\w .:/-]{1,64}$")
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{1,31}$")  # a Slack member id, as Slack shows it (U01ABC...)
MIN_PASSWORD = 10

_hasher = PasswordHasher()  # Argon2id
# Verified against when the user name is unknown, so both cases take as long.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _revoked(conn, slack_id: str) -> None:
    """The dashboard knew this Slack user as a mentor and no longer does: its "no access" is final."""
    conn.execute(delete(RevokedSlackMentor).where(RevokedSlackMentor.slack_user_id == slack_id))
    conn.execute(insert(RevokedSlackMentor).values(slack_user_id=slack_id, revoked_at=time.time()))


def _granted(conn, slack_id: Optional[str]) -> None:
    if slack_id:
        conn.execute(delete(RevokedSlackMentor).where(RevokedSlackMentor.slack_user_id == slack_id))


def sign_in_delay(failures_for_name: int) -> float:
    """How long an attempt on a name waits, given its failures from anywhere in the window."""
    if failures_for_name < SLOW_DOWN_AFTER:
        return 0.0
    return min(MAX_DELAY_S, 2.0 ** (failures_for_name - SLOW_DOWN_AFTER))


@dataclass(frozen=True)
class SignInAttempt:
    username: str
    address: str
    failure_id: int  # the FailedLogin row that counts it until it succeeds
    delay_s: float


class AuthError(ValueError):
    """A user could not be added or changed; the message says why."""


class TooManyAttempts(Exception):
    """Sign-in refused: too many failures for this user name or address."""


@dataclass(frozen=True)
class Account:
    """A signed-in user, as the dashboard sees them."""

    id: int
    username: str
    role: str
    cohorts: FrozenSet[str] = field(default_factory=frozenset)
    csrf_token: str = ""
    slack_user_id: Optional[str] = None  # a mentor's Slack member id

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def may_correct(self) -> bool:
        """Admins and coordinators correct the inbox; mentors read it."""
        return self.role in ("admin", "coordinator")

    def may_see(self, cohort: Optional[str]) -> bool:
        return self.is_admin or (cohort or "") in self.cohorts


def clean_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME.match(name):
        raise AuthError("a user name is 1 to 64 lower-case letters, digits or . _ @ -, starting with a letter or digit")
    return name


def clean_cohorts(cohorts: Iterable[str]) -> List[str]:
    result = []
    for cohort in cohorts:
        cohort = (cohort or "").strip()
        if not cohort:
            continue
        if not COHORT.match(cohort):
            raise AuthError(f"not a cohort code: {cohort[:70]!r} (letters, digits, ` _.-:/`, up to 64)")
        if cohort not in result:
            result.append(cohort)
    return result


def clean_slack_user(slack_user: Optional[str], role: str) -> Optional[str]:
    """A mentor's Slack member id ("U01ABC"; "@U01ABC" and "<@U01ABC>" accepted), or None when empty."""
    value = (slack_user or "").strip().strip("<>").lstrip("@").upper()
    if not value:
        return None
    if role != "mentor":
        raise AuthError("only a mentor has a Slack user id")
    if not SLACK_USER.match(value):
        raise AuthError(f"not a Slack member id: {value[:40]!r} (like U01ABC2DEF, from the member's Slack profile)")
    return value


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"a password has at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


class Users:
    def __init__(self, db: ReviewDB, secret_key: str, session_hours: float = SESSION_HOURS) -> None:
        if len(secret_key or "") < 32:
            raise AuthError("the session secret (REVIEW_SECRET_KEY) must be at least 32 characters")
        self.db = db
        self.session_s = session_hours * 3600
        self._cookies = URLSafeTimedSerializer(secret_key, salt="rapport-review-session")

    # --- managing users --------------------------------------------------------

    def add(
        self, username: str, password: str, role: str, cohorts: Iterable[str] = (), slack_user: Optional[str] = None
    ) -> Account:
        name = clean_username(username)
        if role not in ROLES:
            raise AuthError(f"role is one of {', '.join(ROLES)}")
        codes = clean_cohorts(cohorts)
        slack_id = clean_slack_user(slack_user, role)
        if role != "admin" and not codes:
            raise AuthError("a coordinator or mentor needs at least one cohort")
        hashed = hash_password(password)
        with self.db.begin() as conn:
            if conn.execute(select(User.id).where(User.username == name)).first():
                raise AuthError(f"there is already a user {name!r}")
            self._check_slack_user_free(conn, slack_id, None)
            _granted(conn, slack_id)
            user_id = conn.execute(
                insert(User).values(
                    username=name, password_hash=hashed, role=role, slack_user_id=slack_id, created_at=time.time()
                )
            ).inserted_primary_key[0]
            for cohort in codes:
                conn.execute(insert(UserCohort).values(user_id=user_id, cohort=cohort))
        return Account(user_id, name, role, frozenset(codes), slack_user_id=slack_id)

    def set_slack_user(self, username: str, slack_user: Optional[str]) -> None:
        """Sets (or, with an empty value, clears) a mentor's Slack member id."""
        with self.db.begin() as conn:
            user_id = self._user_id(conn, username)
            role = conn.execute(select(User.role).where(User.id == user_id)).scalar_one()
            slack_id = clean_slack_user(slack_user, role)
            self._check_slack_user_free(conn, slack_id, user_id)
            old = conn.execute(select(User.slack_user_id).where(User.id == user_id)).scalar()
            conn.execute(update(User).where(User.id == user_id).values(slack_user_id=slack_id))
            if old and old != slack_id:
                _revoked(conn, old)
            _granted(conn, slack_id)

    @staticmethod
    def _check_slack_user_free(conn, slack_id: Optional[str], user_id: Optional[int]) -> None:
        if slack_id is None:
            return
        other = conn.execute(select(User.username).where(User.slack_user_id == slack_id, User.id != user_id)).scalar()
        if other is not None:
            raise AuthError(f"the Slack user {slack_id} is already the mentor {other!r}")

    def set_password(self, username: str, password: str) -> None:
        hashed = hash_password(password)
        with self.db.begin() as conn:
            user_id = self._user_id(conn, username)
            conn.execute(update(User).where(User.id == user_id).values(password_hash=hashed))
            conn.execute(delete(LoginSession).where(LoginSession.user_id == user_id))

    def set_cohorts(self, username: str, cohorts: Iterable[str]) -> None:
        codes = clean_cohorts(cohorts)
        with self.db.begin() as conn:
            user_id = self._user_id(conn, username)
            conn.execute(delete(UserCohort).where(UserCohort.user_id == user_id))
            for cohort in codes:
                conn.execute(insert(UserCohort).values(user_id=user_id, cohort=cohort))

    def remove(self, username: str) -> None:
        with self.db.begin() as conn:
            user_id = self._user_id(conn, username)
            old = conn.execute(select(User.slack_user_id).where(User.id == user_id)).scalar()
            conn.execute(delete(UserCohort).where(UserCohort.user_id == user_id))
            conn.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
            conn.execute(delete(User).where(User.id == user_id))
            if old:
                _revoked(conn, old)

    def list(self) -> List[Account]:
        with self.db.read() as conn:
            users = conn.execute(
                select(User.id, User.username, User.role, User.slack_user_id).order_by(User.username)
            ).all()
            cohorts = conn.execute(select(UserCohort.user_id, UserCohort.cohort)).all()
        return [
            Account(
                u.id, u.username, u.role, frozenset(c for i, c in cohorts if i == u.id), slack_user_id=u.slack_user_id
            )
            for u in users
        ]

    def count(self) -> int:
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(User)).scalar_one()

    @staticmethod
    def _user_id(conn, username: str) -> int:
        user_id = conn.execute(select(User.id).where(User.username == clean_username(username))).scalar()
        if user_id is None:
            raise AuthError(f"no user {username!r}")
        return user_id

    # --- signing in and out ----------------------------------------------------

    def sign_in(self, username: str, password: str, address: str) -> Optional[str]:
        """The new session's cookie value, or None for a wrong name or password.
        Raises TooManyAttempts (before checking anything) when rate-limited; a name
        under attack waits (sign_in_delay) first. The web app waits with
        start_sign_in() and finish_sign_in() instead, off its loop."""
        attempt = self.start_sign_in(username, address)
        if attempt.delay_s:
            time.sleep(attempt.delay_s)
        return self.finish_sign_in(attempt, password)

    def start_sign_in(self, username: str, address: str) -> "SignInAttempt":
        """Counts the attempt as a failure, atomically with the count of earlier ones.
        Raises TooManyAttempts when the name from this address, or the address, is over its limit."""
        name = (username or "").strip().lower()[:64]
        address = (address or "")[:64]
        now = time.time()
        with self.db.begin() as conn:
            if conn.dialect.name == "postgresql":
                # SQLite's BEGIN IMMEDIATE already queues writers; on PostgreSQL the attempts on
                # one name, then those from one address, queue here (always in that order: no deadlock).
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(1, hashtext(%(key)s))", {"key": name})
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(2, hashtext(%(key)s))", {"key": address})
            conn.execute(delete(FailedLogin).where(FailedLogin.at < now - FAILURE_WINDOW_S))
            recent = FailedLogin.at >= now - FAILURE_WINDOW_S
            count = lambda *where: conn.execute(select(func.count()).where(recent, *where)).scalar_one()  # noqa: E731
            by_pair = count(FailedLogin.username == name, FailedLogin.address == address)
            by_address = count(FailedLogin.address == address)
            if by_pair >= MAX_FAILURES or by_address >= MAX_FAILURES_PER_ADDRESS:
                raise TooManyAttempts()
            by_name = count(FailedLogin.username == name)
            attempt_id = conn.execute(
                insert(FailedLogin).values(username=name, address=address, at=now)
            ).inserted_primary_key[0]
        return SignInAttempt(name, address, attempt_id, sign_in_delay(by_name))

    def finish_sign_in(self, attempt: "SignInAttempt", password: str) -> Optional[str]:
        """Checks the password of a counted attempt: a session, or None (the failure stays counted)."""
        name, now = attempt.username, time.time()
        with self.db.read() as conn:
            user = conn.execute(select(User.id, User.password_hash).where(User.username == name)).first()
        if not _verify(user.password_hash if user else _DUMMY_HASH, password or "") or user is None:
            return None
        token = secrets.token_urlsafe(32)
        with self.db.begin() as conn:
            # This attempt, and the name's failures from this address, no longer count.
            conn.execute(
                delete(FailedLogin).where(
                    FailedLogin.username == name,
                    (FailedLogin.address == attempt.address) | (FailedLogin.id == attempt.failure_id),
                )
            )
            conn.execute(delete(LoginSession).where(LoginSession.expires_at < now))
            conn.execute(
                insert(LoginSession).values(
                    token_hash=_digest(token),
                    user_id=user.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + self.session_s,
                )
            )
            if _hasher.check_needs_rehash(user.password_hash):
                conn.execute(update(User).where(User.id == user.id).values(password_hash=_hasher.hash(password)))
        return self._cookies.dumps(token)

    def account(self, cookie: Optional[str]) -> Optional[Account]:
        """The signed-in user of a session cookie, or None (missing, forged, expired or signed out)."""
        token = self._token(cookie)
        if token is None:
            return None
        with self.db.read() as conn:
            row = conn.execute(
                select(User.id, User.username, User.role, LoginSession.csrf_token)
                .join(LoginSession, LoginSession.user_id == User.id)
                .where(LoginSession.token_hash == _digest(token), LoginSession.expires_at > time.time())
            ).first()
            if row is None:
                return None
            cohorts = conn.execute(select(UserCohort.cohort).where(UserCohort.user_id == row.id)).scalars().all()
        return Account(row.id, row.username, row.role, frozenset(cohorts), row.csrf_token)

    def sign_out(self, cookie: Optional[str]) -> None:
        token = self._token(cookie)
        if token is not None:
            with self.db.begin() as conn:
                conn.execute(delete(LoginSession).where(LoginSession.token_hash == _digest(token)))

    def _token(self, cookie: Optional[str]) -> Optional[str]:
        if not cookie or len(cookie) > 512:
            return None
        try:
            token = self._cookies.loads(cookie, max_age=self.session_s)
        except BadSignature:  # also SignatureExpired
            return None
        return token if isinstance(token, str) else None


def csrf_matches(expected: str, given: Optional[str]) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
