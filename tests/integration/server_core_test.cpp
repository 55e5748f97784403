int placeholder_integration = 0;
