"""WTForms forms rendered through NHS.UK frontend macros."""
