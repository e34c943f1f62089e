"""Singer target writing streams as parquet, csv or jsonl files into a bucket."""
