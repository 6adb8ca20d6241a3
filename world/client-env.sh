# Sourced (not run) by scripts that talk to the local world after `eval "$(world/start.sh)"`:
# throwaway credentials and no config files, so nothing can reach a real AWS account.
export AWS_ENDPOINT_URL AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=local-world AWS_SECRET_ACCESS_KEY=local-world AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CA_BUNDLE
