"""The one statement that claims seats (DESIGN.md invariant 1), kept free of Django imports so
the booking-rush benchmark hands pgbench exactly the statement the service runs."""

CLAIM_SEATS_SQL = (
    "UPDATE reservations_slot SET booked = booked + %s"
    " WHERE id = %s AND booked + %s <= capacity AND is_offered"
)
"""Parameters: seats, slot id, seats. Matches no row when the seats are not free or the slot
is no longer offered (a booking may have read the slot from a cache)."""

CARDS_READY_SQL = " AND (SELECT count(*) FROM {lock} WHERE ready) = %s"
"""Appended to the claim when a card_pickup booking locks its cards in the same statement
(`issuance.services.queue_card_bookings`): seats are claimed only if every card was found and
waits for a booking. `{lock}` is the lock's name; parameter: the number of cards."""
