"""Plan: diff wanted against found, order it, guard it, render it."""
