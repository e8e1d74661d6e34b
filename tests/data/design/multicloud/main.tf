# A small hand-written module for the design-check tests: one Google Cloud Function (2nd gen) open to allUsers,
# one Azure Linux Function App with Application Insights, one AWS Lambda behind an HTTP API with a JWT authorizer.
variable "runtime" {
  default = "python312"
}

resource "google_cloudfunctions2_function" "api" {
  name     = "api"
  location = "us-central1"
  build_config {
    runtime     = var.runtime
    entry_point = "handler"
  }
  service_config {
    max_instance_count = 3
    timeout_seconds    = 60
    ingress_settings   = "ALLOW_ALL"
    environment_variables = {
      DB_PASSWORD = "hunter2hunter2"
    }
  }
}

resource "google_cloudfunctions2_function_iam_member" "public" {
  cloud_function = google_cloudfunctions2_function.api.name
  role           = "roles/cloudfunctions.invoker"
  member         = "allUsers"
}

resource "azurerm_linux_function_app" "app" {
  name                       = "orders"
  resource_group_name        = "rg"
  location                   = "westeurope"
  service_plan_id            = "plan"
  storage_account_name       = "st"
  https_only                 = true
  virtual_network_subnet_id  = "subnet-id"
  site_config {
    application_insights_connection_string = "InstrumentationKey=00000000-0000-0000-0000-000000000000"
    app_scale_limit                        = 10
    application_stack {
      python_version = "3.8"
    }
  }
}

resource "aws_iam_role" "fn" {
  name               = "fn"
  assume_role_policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }] })
}

resource "aws_lambda_function" "fn" {
  function_name                  = "fn"
  role                           = aws_iam_role.fn.arn
  runtime                        = "python3.12"
  handler                        = "app.handler"
  timeout                        = 10
  reserved_concurrent_executions = 5
  tracing_config {
    mode = "Active"
  }
}

resource "aws_apigatewayv2_api" "http" {
  name          = "http"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "fn" {
  api_id           = aws_apigatewayv2_api.http.id
  integration_type = "AWS_PROXY"
  integration_uri  = aws_lambda_function.fn.invoke_arn
}

resource "aws_apigatewayv2_route" "get" {
  api_id             = aws_apigatewayv2_api.http.id
  route_key          = "GET /orders"
  target             = "integrations/${aws_apigatewayv2_integration.fn.id}"
  authorization_type = "JWT"
}
