"""The domain: the era calendar and the rules of the notice (dates, periods, routes), pure."""
