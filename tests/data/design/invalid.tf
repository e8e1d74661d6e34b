resource "aws_lambda_function" "x" {
  runtime = "python3.12"
  timeout = 
