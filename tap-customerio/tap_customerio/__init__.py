"""Singer tap for the Customer.io App API."""
